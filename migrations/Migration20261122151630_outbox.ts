import { Migration } from '@mikro-orm/migrations';

export class Migration20261122151630_outbox extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_message" ("id" uuid not null, "idempotency_key" varchar(200) not null, "template" varchar(64) not null, "locale" varchar(10) not null, "recipient" varchar(320) not null, "payload" jsonb not null, "attachments" jsonb null, "status" text check ("status" in ('pending', 'sending', 'sent', 'failed', 'in_doubt')) not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "lease_until" timestamptz null, "last_error" varchar(500) null, "created_at" timestamptz not null, "sent_at" timestamptz null, "message_id" varchar(255) null, constraint "outbox_message_pkey" primary key ("id"));`);
    this.addSql(`alter table "outbox_message" add constraint "outbox_message_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "outbox_message_status_next_attempt_at_index" on "outbox_message" ("status", "next_attempt_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox_message";`);
  }

}
