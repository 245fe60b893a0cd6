import { Migration } from '@mikro-orm/migrations';

export class Migration20261203150600_jobs extends Migration {

  // The heartbeats of running background jobs (graphile-worker's own schema is installed by platform/jobs).
  override async up(): Promise<void> {
    this.addSql(`create table "job_heartbeat" ("worker_id" text not null, "beat_at" timestamptz not null, constraint "job_heartbeat_pkey" primary key ("worker_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "job_heartbeat";`);
  }

}
