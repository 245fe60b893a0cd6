import { Migration } from '@mikro-orm/migrations';

export class Migration20261203130255_devices extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "device_binding" ("id" uuid not null, "id_number" char(10) not null, "device_id" varchar(100) not null, "platform" varchar(20) not null, "model" varchar(100) not null, "token_hash" char(43) not null, "verified_at" timestamptz not null, "status" text check ("status" in ('active', 'disabled')) not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "device_binding_pkey" primary key ("id"));`);
    this.addSql(`alter table "device_binding" add constraint "device_binding_id_number_device_id_unique" unique ("id_number", "device_id");`);

    this.addSql(`create table "device_code" ("hash" char(43) not null, "id_number" char(10) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "superseded_at" timestamptz null, constraint "device_code_pkey" primary key ("hash"));`);
    this.addSql(`create index "device_code_id_number_index" on "device_code" ("id_number");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "device_code";`);
    this.addSql(`drop table if exists "device_binding";`);
  }

}
