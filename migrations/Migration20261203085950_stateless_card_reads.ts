import { Migration } from '@mikro-orm/migrations';

export class Migration20261203085950_stateless_card_reads extends Migration {

  override async up(): Promise<void> {
    // Requests are no longer stored before the answer; rows of the old kind are bound to sessions that no longer claim.
    this.addSql(`delete from "card_read_request";`);
    this.addSql(`alter table "card_read_request" drop constraint if exists "card_read_request_state_check";`);

    this.addSql(`drop index "card_read_request_session_hash_index";`);
    this.addSql(`alter table "card_read_request" drop column "session_hash", drop column "challenge";`);

    this.addSql(`alter table "card_read_request" add column "binding_hash" char(43) not null;`);
    this.addSql(`alter table "card_read_request" alter column "id" type varchar(32) using ("id"::varchar(32));`);
    this.addSql(`alter table "card_read_request" add constraint "card_read_request_state_check" check("state" in ('verified', 'claimed', 'failed'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "card_read_request";`);
    this.addSql(`alter table "card_read_request" drop constraint if exists "card_read_request_state_check";`);

    this.addSql(`alter table "card_read_request" drop column "binding_hash";`);

    this.addSql(`alter table "card_read_request" add column "session_hash" char(64) not null, add column "challenge" varchar(64) not null;`);
    this.addSql(`alter table "card_read_request" alter column "id" type varchar(64) using ("id"::varchar(64));`);
    this.addSql(`alter table "card_read_request" add constraint "card_read_request_state_check" check("state" in ('pending', 'verified', 'claimed', 'failed'));`);
    this.addSql(`create index "card_read_request_session_hash_index" on "card_read_request" ("session_hash");`);
  }

}
