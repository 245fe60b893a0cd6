import { Migration } from '@mikro-orm/migrations';

export class Migration20261203091000_rate_limits extends Migration {

  override async up(): Promise<void> {
    // rate-limiter-flexible's PostgreSQL layout (its own CREATE TABLE); not an entity, so kept out of schema diffs.
    this.addSql(`create table "rate_limit" ("key" varchar(255) not null primary key, "points" integer not null default 0, "expire" bigint null);`);
    this.addSql(`create index "rate_limit_expire_index" on "rate_limit" ("expire");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_limit";`);
  }

}
