import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Migration } from '@mikro-orm/migrations';
import { parse } from 'csv-parse/sync';
import { dataFilesDir } from '../src/platform/paths.js';

/** The administrative divisions this migration loads (see data/SOURCE.md). */
const VILLAGES_FILE = 'tw-villages-20230928.csv';
const VILLAGE_COLUMNS = ['villcode', 'countycode', 'countyname', 'towncode', 'townname', 'villname', 'villeng'];

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class Migration20261122151529_registries extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "card" ("card_number" char(12) not null, "id_number" char(10) not null, "issued_on" date not null, "status" text check ("status" in ('valid', 'void')) not null, "public_key" text null, constraint "card_pkey" primary key ("card_number"));`);
    this.addSql(`create index "card_id_number_index" on "card" ("id_number");`);

    this.addSql(`create table "county" ("code" char(5) not null, "name" varchar(20) not null, constraint "county_pkey" primary key ("code"));`);

    this.addSql(`create table "enrollment" ("id_number" char(10) not null, "unit_code" char(8) not null, "unit_name" varchar(100) not null, "insured" boolean not null, constraint "enrollment_pkey" primary key ("id_number", "unit_code"));`);

    this.addSql(`create table "township" ("code" char(8) not null, "county_code" char(5) not null, "name" varchar(20) not null, constraint "township_pkey" primary key ("code"));`);
    this.addSql(`create index "township_county_code_index" on "township" ("county_code");`);

    this.addSql(`create table "village" ("code" char(11) not null, "township_code" char(8) not null, "name" varchar(20) not null, "name_en" varchar(60) not null, constraint "village_pkey" primary key ("code"));`);
    this.addSql(`create index "village_township_code_index" on "village" ("township_code");`);

    this.addSql(`create table "person" ("id_number" char(10) not null, "name" varchar(40) not null, "birth_date" date not null, "sex" text check ("sex" in ('M', 'F')) not null, "household_number" char(8) not null, "village_code" char(11) not null, "neighborhood" smallint not null, constraint "person_pkey" primary key ("id_number"));`);

    this.addSql(`alter table "township" add constraint "township_county_code_foreign" foreign key ("county_code") references "county" ("code") on update cascade;`);

    this.addSql(`alter table "village" add constraint "village_township_code_foreign" foreign key ("township_code") references "township" ("code") on update cascade;`);

    this.addSql(`alter table "person" add constraint "person_village_code_foreign" foreign key ("village_code") references "village" ("code") on update cascade;`);

    this.loadDivisions();
  }

  /** Counties, townships and villages from the data file (7,748 rows: small enough to read whole). */
  private loadDivisions(): void {
    const rows: string[][] = parse(readFileSync(join(dataFilesDir, VILLAGES_FILE)), { bom: true });
    const header = rows.shift();
    if (header?.join(',') !== VILLAGE_COLUMNS.join(',')) throw new Error(`${VILLAGES_FILE}: unexpected header ${header?.join(',')}`);
    const counties = new Map<string, string>();
    const townships = new Map<string, [string, string]>();
    for (const [, countyCode, countyName, townCode, townName] of rows) {
      counties.set(countyCode!, countyName!);
      townships.set(townCode!, [countyCode!, townName!]);
    }
    const insert = (table: string, columns: string, values: string[]) => {
      for (let i = 0; i < values.length; i += 1000)
        this.addSql(`insert into "${table}" (${columns}) values ${values.slice(i, i + 1000).join(', ')};`);
    };
    insert('county', '"code", "name"', [...counties].map(([code, name]) => `(${literal(code)}, ${literal(name)})`));
    insert('township', '"code", "county_code", "name"',
      [...townships].map(([code, [county, name]]) => `(${literal(code)}, ${literal(county)}, ${literal(name)})`));
    insert('village', '"code", "township_code", "name", "name_en"',
      rows.map(([code, , , town, , name, nameEn]) => `(${literal(code!)}, ${literal(town!)}, ${literal(name!)}, ${literal(nameEn!)})`));
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "enrollment", "card", "person", "village", "township", "county";`);
  }

}
