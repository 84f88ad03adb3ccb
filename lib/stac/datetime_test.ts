import { equal } from "node:assert/strict";
import {
  chooseDatetimeFormat,
  datetimeFits,
  type DatetimeFormat,
  DatetimeFormatChooser,
  instantMicros,
} from "./datetime.ts";

const TEXTS = [
  "2020-02-29T23:59:59Z",
  "2021-02-29T00:00:00Z",
  "2020-01-01T00:00:00.5Z",
  "2020-01-01T00:00:00.123456Z",
  "2020-01-01T00:00:00.123000Z",
  "2020-01-01T00:00:00.000000Z",
  "2020-01-01T00:00:00.123Z",
  "2020-01-01T00:00:00.000Z",
  "2020-01-01T24:00:00Z",
  "0999-01-01T00:00:00Z",
  "0050-01-01T00:00:00.100Z",
  "2020-01-01 00:00:00Z",
  "2020-01-01T00:00:60Z",
  "2020-01-01T00:00:00.1234567Z",
  "2020-01-01T02:00:00+02:00",
  "2020-01-01t00:00:00z",
  "9999-12-31T23:59:59.999999Z",
  "not a date",
];

/** The format as its definition says: the first that gives back every text, else the one that gives back most. */
function byDefinition(values: string[]): DatetimeFormat | undefined {
  const formats = ["auto", "ms", "us"] as const;
  for (const f of formats) if (values.every((v) => datetimeFits(v, f) !== undefined)) return f;
  if (values.some((v) => instantMicros(v) === undefined)) return undefined;
  const counts = formats.map((f) => values.filter((v) => datetimeFits(v, f) !== undefined).length);
  return formats[counts.indexOf(Math.max(...counts))];
}

Deno.test("DatetimeFormatChooser gives the format of its definition for every pair of texts", () => {
  for (const a of TEXTS) {
    for (const b of TEXTS) {
      const chooser = new DatetimeFormatChooser();
      chooser.add(a);
      chooser.add(null);
      chooser.add(b);
      const format = byDefinition([a, b]);
      equal(chooser.format(), format, `${a} ${b}`);
      equal(chooseDatetimeFormat([a, b]), format, `${a} ${b}`);
      if (format) {
        equal(
          chooser.givesBackAll(format),
          [a, b].every((v) => datetimeFits(v, format) !== undefined),
          `${a} ${b}`,
        );
      }
    }
  }
});

Deno.test("DatetimeFormatChooser makes a column with a non-string value no timestamp column", () => {
  const chooser = new DatetimeFormatChooser();
  chooser.add("2020-01-01T00:00:00Z");
  chooser.add(5);
  equal(chooser.format(), undefined);
  equal(new DatetimeFormatChooser().format(), "auto");
});
