/**
 * Dates for `%(asctime)s`: Python's `time.strftime` (the common directives) for a `datefmt`, and
 * the default `asctime` format with milliseconds. Local time.
 */

const p2 = (n: number) => String(n).padStart(2, "0");
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** `time.strftime` for a local time: the common directives. */
export function strftime(fmt: string, d: Date): string {
  return fmt.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case "Y":
        return String(d.getFullYear());
      case "y":
        return p2(d.getFullYear() % 100);
      case "m":
        return p2(d.getMonth() + 1);
      case "d":
        return p2(d.getDate());
      case "e":
        return String(d.getDate()).padStart(2);
      case "H":
        return p2(d.getHours());
      case "I":
        return p2(d.getHours() % 12 || 12);
      case "M":
        return p2(d.getMinutes());
      case "S":
        return p2(d.getSeconds());
      case "p":
        return d.getHours() < 12 ? "AM" : "PM";
      case "a":
        return (DAYS[d.getDay()] as string).slice(0, 3);
      case "A":
        return DAYS[d.getDay()] as string;
      case "b":
      case "h":
        return (MONTHS[d.getMonth()] as string).slice(0, 3);
      case "B":
        return MONTHS[d.getMonth()] as string;
      case "j": {
        const start = new Date(d.getFullYear(), 0, 1);
        const day = Math.round(
          (new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 864e5,
        );
        return String(day + 1).padStart(3, "0");
      }
      case "w":
        return String(d.getDay());
      case "z": {
        const off = -d.getTimezoneOffset();
        const a = Math.abs(off);
        return `${off < 0 ? "-" : "+"}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
      }
      case "Z":
        return (
          new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
            .formatToParts(d)
            .find((p) => p.type === "timeZoneName")?.value ?? ""
        );
      case "c":
        return `${(DAYS[d.getDay()] as string).slice(0, 3)} ${(MONTHS[d.getMonth()] as string).slice(0, 3)} ${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
      case "x":
        return `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`;
      case "X":
        return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
      case "%":
        return "%";
      default:
        return all;
    }
  });
}

/** `%(asctime)s` of a record created at `ms`: `datefmt` through strftime, else Python's `2003-07-08 16:49:45,896`. */
export function asctime(ms: number, datefmt: string | undefined): string {
  const d = new Date(ms);
  if (datefmt !== undefined) return strftime(datefmt, d);
  const y = String(d.getFullYear()).padStart(4, "0");
  const frac = String(Math.floor(ms) % 1000).padStart(3, "0");
  return `${y}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())},${frac}`;
}
