import { Migration } from '@mikro-orm/migrations';

export class Migration20261203142122_counter extends Migration {

  // Counter staff accounts, employer units' admins, and a keyed digest that finds a person's audit events.
  override async up(): Promise<void> {
    this.addSql(`create table "staff_member" ("username" varchar(32) not null, "role" text check ("role" in ('clerk', 'supervisor', 'admin')) not null, "password_hash" varchar(200) not null, "password_changed_at" timestamptz not null, "disabled_at" timestamptz null, "consecutive_failures" int not null default 0, "locked_at" timestamptz null, "session_epoch" int not null default 0, "created_at" timestamptz not null, "created_by" varchar(32) null, "updated_at" timestamptz not null, constraint "staff_member_pkey" primary key ("username"));`);

    this.addSql(`create table "employer_unit_admin" ("unit_code" char(8) not null, "id_number" char(10) not null, "designated_at" timestamptz not null, "designated_by" varchar(32) not null, constraint "employer_unit_admin_pkey" primary key ("unit_code"));`);
    this.addSql(`create index "employer_unit_admin_id_number_index" on "employer_unit_admin" ("id_number");`);

    this.addSql(`alter table "audit_event" add column "subject_key" char(43) null;`);
    this.addSql(`create index "audit_event_subject_key_index" on "audit_event" ("subject_key");`);
    this.addSql(`create index "audit_event_occurred_at_id_index" on "audit_event" ("occurred_at", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "audit_event_occurred_at_id_index";`);
    this.addSql(`drop index "audit_event_subject_key_index";`);
    this.addSql(`alter table "audit_event" drop column "subject_key";`);
    this.addSql(`drop table "employer_unit_admin";`);
    this.addSql(`drop table "staff_member";`);
  }

}
