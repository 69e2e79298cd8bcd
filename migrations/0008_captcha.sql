-- Image captcha challenges for the sign-in forms: single use, five minutes. The answer is
-- stored as typed (lower case); it is worthless once used or expired, and only the server
-- reads this table.
create table captcha_challenges (
    id uuid primary key,
    answer text not null,
    expires_at timestamptz not null
);
create index captcha_challenges_expiry_idx on captcha_challenges (expires_at);
grant select, insert, delete on captcha_challenges to xuegong_app;
