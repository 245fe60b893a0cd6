import { Migration } from '@mikro-orm/migrations';

export class Migration20261203131636_app_registration extends Migration {

  // 行動電話認證 registers without an e-mail address (registration rule 4(2): no mail confirmation through the app).
  override async up(): Promise<void> {
    this.addSql(`alter table "registration" alter column "email" drop not null;`);
  }

  override async down(): Promise<void> {
    // Inventing an address for app-made registrations would mail a stranger: refuse while any exist.
    this.addSql(`do $$ begin if exists (select 1 from "registration" where "email" is null) then raise exception 'registrations made through the app have no e-mail address: delete them before rolling back app_registration'; end if; end $$;`);
    this.addSql(`alter table "registration" alter column "email" set not null;`);
  }

}
