import { Migration } from '@mikro-orm/migrations';

export class Migration20261122153413_card_reads extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "card_read_request" ("id" varchar(64) not null, "session_hash" char(64) not null, "challenge" varchar(64) not null, "purpose" varchar(20) not null, "return_to" varchar(500) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "state" text check ("state" in ('pending', 'verified', 'claimed', 'failed')) not null, "failure" varchar(40) null, "card" jsonb null, "verified_at" timestamptz null, "terminal_id" varchar(20) null, "expected_id_number" char(10) null, constraint "card_read_request_pkey" primary key ("id"));`);
    this.addSql(`create index "card_read_request_session_hash_index" on "card_read_request" ("session_hash");`);
    this.addSql(`create index "card_read_request_expires_at_index" on "card_read_request" ("expires_at");`);

    this.addSql(`create table "reader_terminal" ("terminal_id" varchar(20) not null, "public_key" varchar(43) not null, "label" varchar(100) not null, "enrolled_at" timestamptz not null, "revoked_at" timestamptz null, constraint "reader_terminal_pkey" primary key ("terminal_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "card_read_request", "reader_terminal";`);
  }

}
