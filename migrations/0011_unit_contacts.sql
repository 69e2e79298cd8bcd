-- Each org unit's leader (a staff account of the school) and its office contact details.
-- Office numbers and rooms are a unit's, not a person's; personal phones stay out of here.
alter table org_units add column leader_account_id uuid;
alter table org_units add column office_phone text not null default ''
    check (office_phone ~ '^[0-9+() -]{0,30}$');
alter table org_units add column office_location text not null default ''
    check (length(office_location) <= 100);
alter table org_units add constraint org_units_leader_fkey
    foreign key (tenant_id, leader_account_id) references school_accounts (tenant_id, id);
