-- Failed sign-ins per account, for lockout with back-off.
alter table school_accounts add column failed_logins integer not null default 0;
alter table school_accounts add column locked_until timestamptz;
alter table platform_accounts add column failed_logins integer not null default 0;
alter table platform_accounts add column locked_until timestamptz;
