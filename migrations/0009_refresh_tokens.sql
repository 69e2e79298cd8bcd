-- Refresh tokens, stored as SHA-256 digests. Each sign-in starts a family; every use rotates
-- the token within its family; presenting a used token again revokes the whole family (it was
-- stolen or replayed). Sign-out revokes the family, a password change every family.

create table refresh_tokens (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    account_id uuid not null,
    family_id uuid not null,
    token_hash text not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, token_hash),
    foreign key (tenant_id, account_id) references school_accounts (tenant_id, id) on delete cascade
);
create index refresh_tokens_family_idx on refresh_tokens (tenant_id, family_id);
select xg_isolate('refresh_tokens', false);

create table platform_refresh_tokens (
    id uuid primary key,
    account_id uuid not null references platform_accounts (id) on delete cascade,
    family_id uuid not null,
    token_hash text not null unique,
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now()
);
create index platform_refresh_tokens_family_idx on platform_refresh_tokens (family_id);
grant select, insert, update on platform_refresh_tokens to xuegong_app;
