import { Migration } from '@mikro-orm/migrations';

export class Migration20261203115032_link_tokens extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "link_token" ("hash" char(43) not null, "purpose" varchar(20) not null, "subject" varchar(20) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "superseded_at" timestamptz null, constraint "link_token_pkey" primary key ("hash"));`);
    this.addSql(`create index "link_token_purpose_subject_index" on "link_token" ("purpose", "subject");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "link_token";`);
  }

}
