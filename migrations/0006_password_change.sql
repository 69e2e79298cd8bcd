-- Platform accounts created with a generated password must change it at first sign-in, like
-- school accounts already do.
alter table platform_accounts add column must_change_password boolean not null default false;
