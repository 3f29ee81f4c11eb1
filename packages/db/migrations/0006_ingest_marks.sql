CREATE TABLE `ingest_marks` (
	`token` text PRIMARY KEY NOT NULL,
	`from_rowid` integer NOT NULL
);
