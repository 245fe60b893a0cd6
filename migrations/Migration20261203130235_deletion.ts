import { Migration } from '@mikro-orm/migrations';

export class Migration20261203130235_deletion extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "captcha_use" ("id" char(22) not null, "used_at" timestamptz not null, constraint "captcha_use_pkey" primary key ("id"));`);

    this.addSql(`create table "deletion_request" ("id_number" char(10) not null, "flow_id" char(22) not null, "code_hash" char(43) not null, "email" varchar(254) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "failed_attempts" int not null, "used_at" timestamptz null, "voided_at" timestamptz null, constraint "deletion_request_pkey" primary key ("id_number"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "deletion_request";`);
    this.addSql(`drop table if exists "captcha_use";`);
  }

}
