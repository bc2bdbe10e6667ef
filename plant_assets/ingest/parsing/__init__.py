"""Shared pieces of the historian and event parsers: the SQL stages every dialect runs.

Every parser follows the same plan, all heavy lifting in DuckDB on the caller's connection:

1. `source_files.open_source`: a file becomes a temp table `(source_line, line)`, one row per **physical** line
   (1-based, header = line 1), read by DuckDB's read_csv as one VARCHAR column without quoting (nothing is lost
   or re-interpreted), stored in file order so that a line's number is its rowid + 1. A file DuckDB cannot
   read that way (NUL bytes, UTF-16, invalid UTF-8, a stray carriage return, a glob character in its name
   ...) is split into lines in Python and registered instead, so a bad file never raises. The header is the
   first non-blank line; blank lines carry no record.
2. `source_files.split_fields_sql`: a line becomes its list of fields (`string_split`; a CSV regex when the
   line holds a quote character; trimmed when a space touches a delimiter), as a CSV reader would read it.
3. One INSERT per file classifies every record (a long line, or a (line, tag) cell of a wide file) into the
   `cls` temp table: parsed values plus `reason_code` (NULL = accepted so far) and `reason_detail`, first
   failing `rules.Rule` wins. A record is keyed by `rid` = file, line and column packed into one BIGINT
   (which is also the file order). The INSERT's row count is the file's raw record count.
4. `local_day.LocalDay` converts plant-local timestamps to naive UTC with the plant's zone: offsets come from
   `zoneinfo` for the one partition day (piecewise constant, so the SQL is plain interval arithmetic, the
   same on any connection time zone), local times in a DST gap are `bad_timestamp`. A stamp that carries its
   UTC offset or zone abbreviation (`written_time`) is its own instant; unmarked local times in a DST fold are
   resolved by file order (`classify.resolve_fold`): the repeated hour of a time-ordered series is the
   second (standard-time) pass, and in a series not in time order it is `ambiguous_local_time`.
5. Exact duplicates on the key become `duplicate` (first in file order kept; `classify.keys_are_unique` skips
   the GROUP BY for well-ordered exports), then `classify.finish` writes the accepted and quarantine rows to
   Parquet with DuckDB (`COPY`, in a fixed order and schema; nothing passes through Python memory) and
   builds the reconciliation.

`stream_run.run_stream` runs these stages for any stream, `historian_run.run_historian` for readings. The
frames, reason codes and the configuration error are the ingest contract (`plant_assets.ingest.contract`).

Identifiers in SQL are only generated in this package (temp names from a uuid); file paths, formats, tags
and every other value from configuration or data are bound parameters.
"""
