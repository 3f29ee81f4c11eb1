CREATE TABLE `ingest_marks` (
	`token` text PRIMARY KEY NOT NULL,
	`from_rowid` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `tests` ADD `skipped_agents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `unsupported_agents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `tests` SET
	`skipped_agents` = (SELECT count(*) FROM `assignments` a JOIN `latest` l ON l.`test_id` = a.`test_id` AND l.`agent_id` = a.`agent_id` WHERE a.`test_id` = `tests`.`id` AND l.`status` = 'skipped'),
	`unsupported_agents` = (SELECT count(*) FROM `assignments` a JOIN `latest` l ON l.`test_id` = a.`test_id` AND l.`agent_id` = a.`agent_id` WHERE a.`test_id` = `tests`.`id` AND l.`status` = 'unsupported');
