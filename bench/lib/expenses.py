#!/usr/bin/env python3
"""expenses.py: writes N rows of a deterministic expense dataset as CSV
(RFC 4180, CRLF) to stdout, for bench/export.sh.

    python3 bench/lib/expenses.py N > expenses.csv

The same N always gives the same bytes (a fixed linear congruential
generator, no randomness from the system).  About 90 bytes a row.  Some
values need quoting in CSV: merchants with commas, descriptions with
double quotes or a line break, and some non-ASCII text.
"""

import sys

EMPLOYEES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra",
             "Barbara Liskov", "Donald Knuth", "Frances Allen", "Ken Thompson",
             "Margaret Hamilton", "Dennis Ritchie", "Niklaus Wirth",
             "Radia Perlman", "José Núñez", "Zoë Ångström"]
CATEGORIES = ["Meals", "Hotel", "Airfare", "Taxi", "Car Rental", "Mileage",
              "Office Supplies", "Conference", "Phone", "Parking"]
MERCHANTS = ["Acme Travel", "Hotel Europa", "Lufthansa", "Uber", "Hertz",
             "Staples", "Café Zürich", "Smith, Jones & Co", "Blue Bottle",
             "Marriott", "Air France", "The \"Good\" Diner", "SNCF", "Shell"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY"]
NOTES = ["", "Client dinner", "Team offsite", "Airport transfer",
         "Printer toner", "Booked late, \"flex\" fare", "Two nights",
         "Parking at HQ", "Line one\nline two", "Taxi, rain"]


def main():
    n = int(sys.argv[1])
    out = sys.stdout
    out.reconfigure(newline="")
    x = 12345
    lines = ["id,report,employee,date,category,merchant,amount,currency,"
             "note\r\n"]
    for i in range(1, n + 1):
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        r = x >> 17
        emp = EMPLOYEES[r % len(EMPLOYEES)]
        cat = CATEGORIES[(r >> 5) % len(CATEGORIES)]
        mer = MERCHANTS[(r >> 9) % len(MERCHANTS)]
        cur = CURRENCIES[(r >> 13) % len(CURRENCIES)]
        note = NOTES[(r >> 16) % len(NOTES)]
        amount = "%d.%02d" % ((r >> 20) % 2000, (r >> 31) % 100)
        date = "2024-%02d-%02d" % ((r >> 38) % 12 + 1, (r >> 42) % 28 + 1)
        fields = [str(i), "R%06d" % (i // 7), emp, date, cat, mer, amount,
                  cur, note]
        lines.append(",".join(
            '"' + f.replace('"', '""') + '"'
            if (',' in f or '"' in f or '\n' in f or '\r' in f) else f
            for f in fields) + "\r\n")
        if len(lines) >= 10000:
            out.write("".join(lines))
            lines = []
    out.write("".join(lines))


if __name__ == "__main__":
    main()
