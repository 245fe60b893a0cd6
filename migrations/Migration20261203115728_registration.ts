import { Migration } from '@mikro-orm/migrations';

export class Migration20261203115728_registration extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "registration" ("id_number" char(10) not null, "card_number" char(12) not null, "state" text check ("state" in ('pending', 'active', 'suspended', 'deleted')) not null, "password_hash" varchar(200) not null, "password_changed_at" timestamptz not null, "session_epoch" int not null, "email" varchar(254) not null, "spare_email" varchar(254) null, "local_phone" varchar(30) null, "mobile" char(10) null, "locale" varchar(5) not null, "created_at" timestamptz not null, "confirmed_at" timestamptz null, "updated_at" timestamptz not null, constraint "registration_pkey" primary key ("id_number"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "registration";`);
  }

}
