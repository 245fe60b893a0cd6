import { Migration } from '@mikro-orm/migrations';

/**
 * The registry import's field rules as SQL functions, so a file is checked where it is loaded (one pass over the
 * staging table, in parallel) instead of row by row in the importing process. Each is the twin of a rule in
 * src/modules/*\/rules.ts or id-number.ts or platform/registry-import/fields.ts and returns the same reason, word
 * for word (tests/db/registry-rules-sql.test.ts holds them to it); null when the value is acceptable.
 * IMMUTABLE single-SELECT SQL functions are inlined into the query that calls them (STRICT would prevent it, their
 * CASE not being strict, and so would format(), which is only STABLE). Character classes are spelled out ([0-9],
 * not \d) so that neither the database's collation nor ICU's notion of a digit changes a rule. A counted
 * repetition (`[0-9]{11}`) costs PostgreSQL's regular expressions several times a length check and `[^0-9]`.
 */
export class Migration20261203171500_registry_rules_in_sql extends Migration {

  override async up(): Promise<void> {
    // The check digit of a well-formed ID number (household/id-number.ts): the area letter's two-digit code
    // (10 + its place in this list), then the 9 characters after it, weighted 1,9,8,7,6,5,4,3,2,1,1.
    this.addSql(`create function registry_id_number_check_ok(id text) returns boolean
      language sql immutable parallel safe as $$
      select (
        (strpos('ABCDEFGHJKLMNPQRSTUVXYWZIO', substr(id, 1, 1)) + 9) / 10
        + (strpos('ABCDEFGHJKLMNPQRSTUVXYWZIO', substr(id, 1, 1)) + 9) % 10 * 9
        + case when ascii(substr(id, 2, 1)) between 65 and 68 then ascii(substr(id, 2, 1)) - 65 else ascii(substr(id, 2, 1)) - 48 end * 8
        + (ascii(substr(id, 3, 1)) - 48) * 7 + (ascii(substr(id, 4, 1)) - 48) * 6 + (ascii(substr(id, 5, 1)) - 48) * 5
        + (ascii(substr(id, 6, 1)) - 48) * 4 + (ascii(substr(id, 7, 1)) - 48) * 3 + (ascii(substr(id, 8, 1)) - 48) * 2
        + (ascii(substr(id, 9, 1)) - 48) + (ascii(substr(id, 10, 1)) - 48)
      ) % 10 = 0 $$;`);

    this.addSql(`create function registry_id_number_error(id text) returns text
      language sql immutable parallel safe as $$
      select case
        when char_length(id) <> 10 then 'must be 10 characters (found ' || char_length(id)::text || ')'
        when substr(id, 1, 1) collate "C" not between 'A' and 'Z' then 'must begin with an uppercase letter A–Z'
        when strpos('1289ABCD', substr(id, 2, 1)) = 0 then 'second character must be 1 or 2 (national ID), 8 or 9 (resident certificate) or A–D (old resident certificate)'
        when substr(id, 3) ~ '[^0-9]' then 'the last 8 characters must be digits'
        when not registry_id_number_check_ok(id) then 'wrong check digit'
      end $$;`);

    // platform/registry-import/fields.ts isoDateError; \`today\` is the Taipei date, YYYY-MM-DD. Compared as text
    // in the C collation: the shape is fixed, and year 0000 is no date PostgreSQL can cast.
    this.addSql(`create function registry_date_error(value text, today text) returns text
      language sql immutable parallel safe as $$
      select case
        when octet_length(value) <> 10 or value !~ '^[0-9]+-[0-9]+-[0-9]+$' or substr(value, 5, 1) <> '-' or substr(value, 8, 1) <> '-' then '"' || value || '" is not a date written YYYY-MM-DD'
        when substr(value, 6, 2)::int not between 1 and 12
          or substr(value, 9, 2)::int not between 1 and case
            when substr(value, 6, 2)::int = 2 then case
              when substr(value, 1, 4)::int % 4 = 0 and (substr(value, 1, 4)::int % 100 <> 0 or substr(value, 1, 4)::int % 400 = 0) then 29 else 28 end
            when substr(value, 6, 2)::int in (4, 6, 9, 11) then 30 else 31 end
          then value || ' is not a real calendar date'
        when value collate "C" < '1880-01-01' then value || ' is before 1880-01-01'
        when value collate "C" > today collate "C" then value || ' is in the future'
      end $$;`);

    // fields.ts textError: U+FFFD is what bytes that are not UTF-8 decode to; the spaces are those JavaScript's
    // trim() removes that are not control characters already.
    this.addSql(`create function registry_text_error(value text, max integer) returns text
      language sql immutable parallel safe as $$
      select case
        when strpos(value, U&'\\FFFD') > 0 then 'contains bytes that are not UTF-8 (save the file as UTF-8)'
        when value ~ '[\\x01-\\x1f\\x7f-\\x9f]' then 'contains a control character'
        when value !~ '[^ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]' then 'is empty'
        when strpos(U&' \\00a0\\1680\\2000\\2001\\2002\\2003\\2004\\2005\\2006\\2007\\2008\\2009\\200a\\2028\\2029\\202f\\205f\\3000\\feff', left(value, 1)) > 0
          or strpos(U&' \\00a0\\1680\\2000\\2001\\2002\\2003\\2004\\2005\\2006\\2007\\2008\\2009\\200a\\2028\\2029\\202f\\205f\\3000\\feff', right(value, 1)) > 0
          then 'begins or ends with a space'
        when char_length(value) > max then 'is longer than ' || max::text || ' characters (' || char_length(value)::text || ')'
      end $$;`);

    // household/rules.ts
    this.addSql(`create function registry_household_number_error(value text) returns text
      language sql immutable parallel safe as $$
      select case
        when char_length(value) <> 8 then '"' || value || '" must be 8 characters (found ' || char_length(value)::text || ')'
        when value ~ '[^A-Z0-9]' then '"' || value || '" may hold only uppercase letters A–Z and digits'
      end $$;`);
    this.addSql(`create function registry_neighborhood_error(value text) returns text
      language sql immutable parallel safe as $$
      select case when value = '' or octet_length(value) > 3 or value ~ '[^0-9]' then '"' || value || '" must be a whole number from 1 to 999'
        when value::int < 1 then '"' || value || '" must be a whole number from 1 to 999' end $$;`);
    this.addSql(`create function registry_village_code_shape_error(value text) returns text
      language sql immutable parallel safe as $$
      select case when octet_length(value) <> 11 or value ~ '[^0-9]' then '"' || value || '" must be an 11-digit village code' end $$;`);

    // cards/rules.ts: a raw 32-byte key is 43 base64url characters whose last one carries 2 unused bits, which
    // must be zero for the text to re-encode unchanged.
    this.addSql(`create function registry_card_number_error(value text) returns text
      language sql immutable parallel safe as $$
      select case when octet_length(value) <> 12 or value ~ '[^0-9]' then '"' || value || '" must be exactly 12 digits' end $$;`);
    this.addSql(`create function registry_public_key_error(value text) returns text
      language sql immutable parallel safe as $$
      select case when octet_length(value) <> 43 or value ~ '[^A-Za-z0-9_-]' or strpos('AEIMQUYcgkosw048', right(value, 1)) = 0
        then 'must be the base64url (no padding) of a 32-byte Ed25519 public key, or empty' end $$;`);

    // employers/rules.ts
    this.addSql(`create function registry_unit_code_error(value text) returns text
      language sql immutable parallel safe as $$
      select case when octet_length(value) <> 8 or value ~ '[^0-9]' then '"' || value || '" must be exactly 8 digits' end $$;`);
  }

  override async down(): Promise<void> {
    for (const name of ['id_number_check_ok', 'id_number_error', 'date_error', 'text_error', 'household_number_error', 'neighborhood_error',
      'village_code_shape_error', 'card_number_error', 'public_key_error', 'unit_code_error'])
      this.addSql(`drop function if exists registry_${name};`);
  }

}
