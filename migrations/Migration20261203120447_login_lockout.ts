import { Migration } from '@mikro-orm/migrations';

export class Migration20261203120447_login_lockout extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "login_lockout" ("id_number" char(10) not null, "consecutive_failures" int not null, "locked_at" timestamptz null, "updated_at" timestamptz not null, constraint "login_lockout_pkey" primary key ("id_number"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "login_lockout";`);
  }

}
