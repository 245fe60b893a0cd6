import { Migration } from '@mikro-orm/migrations';

export class Migration20261203145917_employer_bulk extends Migration {

  // Employer bulk registration: 角色管理 grants, uploads with their rows' results, and registrations made by one.
  override async up(): Promise<void> {
    this.addSql(`create table "bulk_upload" ("id" uuid not null, "unit_code" char(8) not null, "clerk_id_number" char(10) not null, "clerk_name" varchar(100) not null, "clerk_email" varchar(254) not null, "file_name" varchar(255) not null, "stored_name" varchar(64) not null, "format" text check ("format" in ('csv', 'xlsx')) not null, "encoding" text check ("encoding" in ('utf-8', 'utf-8-bom', 'big5')) null, "size" int not null, "status" text check ("status" in ('queued', 'processing', 'done', 'failed')) not null, "total_rows" int not null, "processed_rows" int not null default 0, "accepted" int not null default 0, "rejected" int not null default 0, "locale" varchar(5) not null, "created_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "failure" varchar(200) null, constraint "bulk_upload_pkey" primary key ("id"));`);
    this.addSql(`create index "bulk_upload_unit_code_index" on "bulk_upload" ("unit_code");`);
    this.addSql(`create index "bulk_upload_clerk_id_number_index" on "bulk_upload" ("clerk_id_number");`);
    this.addSql(`create index "bulk_upload_created_at_index" on "bulk_upload" ("created_at");`);

    this.addSql(`create table "bulk_upload_row" ("upload_id" uuid not null, "line" int not null, "id_number" varchar(20) not null, "name" varchar(100) not null, "birth_date" varchar(20) not null, "email" varchar(254) not null, "mobile" varchar(20) not null, "result" text check ("result" in ('accepted', 'rejected')) not null, "reason" varchar(40) null, constraint "bulk_upload_row_pkey" primary key ("upload_id", "line"));`);
    this.addSql(`create index "bulk_upload_row_upload_id_result_line_index" on "bulk_upload_row" ("upload_id", "result", "line");`);
    this.addSql(`create index "bulk_upload_row_upload_id_id_number_index" on "bulk_upload_row" ("upload_id", "id_number");`);

    this.addSql(`create table "employer_role" ("unit_code" char(8) not null, "id_number" char(10) not null, "role" text check ("role" in ('upload', 'query')) not null, "granted_at" timestamptz not null, "granted_by" char(10) not null, constraint "employer_role_pkey" primary key ("unit_code", "id_number", "role"));`);
    this.addSql(`create index "employer_role_id_number_index" on "employer_role" ("id_number");`);

    this.addSql(`alter table "registration" add column "needs_password" boolean not null default false, add column "via_unit" char(8) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "registration" drop column "needs_password", drop column "via_unit";`);
    this.addSql(`drop table "employer_role";`);
    this.addSql(`drop table "bulk_upload_row";`);
    this.addSql(`drop table "bulk_upload";`);
  }

}
