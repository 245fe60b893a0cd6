import { Migration } from '@mikro-orm/migrations';

export class Migration20261122151014_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "announcement" ("id" serial primary key, "title_zh" varchar(200) not null, "title_en" varchar(200) null, "body_zh" text null, "body_en" text null, "marquee" boolean not null default false, "publish_from" timestamptz not null, "publish_until" timestamptz null, "created_at" timestamptz not null, "created_by" varchar(64) null);`);
    this.addSql(`create index "announcement_publish_from_index" on "announcement" ("publish_from");`);

    this.addSql(`create table "audit_event" ("id" bigserial primary key, "occurred_at" timestamptz not null, "actor_type" varchar(20) not null, "actor_id" varchar(64) null, "action" varchar(64) not null, "subject" varchar(128) null, "outcome" varchar(20) not null, "client_address" varchar(64) null, "detail" jsonb null);`);
    this.addSql(`create index "audit_event_occurred_at_index" on "audit_event" ("occurred_at");`);
    this.addSql(`create index "audit_event_action_index" on "audit_event" ("action");`);
    this.addSql(`create index "audit_event_subject_index" on "audit_event" ("subject");`);

    // The session store's table (connect-pg-simple's layout); not an entity, so kept out of schema diffs.
    this.addSql(`create table "session" ("sid" varchar not null primary key, "sess" json not null, "expire" timestamp(6) not null);`);
    this.addSql(`create index "session_expire_index" on "session" ("expire");`);
  }

}
