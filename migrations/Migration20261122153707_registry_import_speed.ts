import { Migration } from '@mikro-orm/migrations';

/**
 * person.village_code loses its foreign-key constraint: the registry import, the table's only writer, checks
 * every code against `village`, and the per-row constraint check doubled the cost of loading persons.
 */
export class Migration20261122153707_registry_import_speed extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "person" drop constraint "person_village_code_foreign";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "person" add constraint "person_village_code_foreign" foreign key ("village_code") references "village" ("code") on update cascade on delete no action;`);
  }

}
