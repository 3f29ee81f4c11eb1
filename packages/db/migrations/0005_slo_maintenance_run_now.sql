CREATE TABLE `availability` (
	`test_id` integer NOT NULL,
	`agent_id` text NOT NULL,
	`res` integer NOT NULL,
	`bucket` integer NOT NULL,
	`total` integer NOT NULL,
	`passed` integer NOT NULL,
	PRIMARY KEY(`test_id`, `agent_id`, `res`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `availability_agent_idx` ON `availability` (`agent_id`,`res`,`bucket`);--> statement-breakpoint
CREATE INDEX `availability_bucket_idx` ON `availability` (`res`,`bucket`);--> statement-breakpoint
CREATE TABLE `maintenance_windows` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cluster` text,
	`namespace` text,
	`name` text,
	`labels` text DEFAULT '{}' NOT NULL,
	`reason` text NOT NULL,
	`start_at` integer,
	`end_at` integer,
	`schedule` text,
	`timezone` text,
	`duration_ms` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rejections` (
	`cluster` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`reason` text NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`cluster`, `namespace`, `name`)
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `maintenance` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `source` text DEFAULT 'syncer' NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `rejected_reason` text;--> statement-breakpoint
ALTER TABLE `tests` ADD `rejected_since` integer;--> statement-breakpoint
ALTER TABLE `tests` ADD `run_request_id` text;--> statement-breakpoint
ALTER TABLE `tests` ADD `run_requested_at` integer;--> statement-breakpoint
ALTER TABLE `tests` ADD `maintenance_from` integer;--> statement-breakpoint
ALTER TABLE `tests` ADD `maintenance_until` integer;--> statement-breakpoint
ALTER TABLE `tests` ADD `maintenance_reason` text;--> statement-breakpoint
ALTER TABLE `tests` ADD `maintenance_spec` text;--> statement-breakpoint
ALTER TABLE `tests` ADD `runs_counted` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `runs_failed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `slo_objective` real;--> statement-breakpoint
ALTER TABLE `tests` ADD `slo_window_ms` integer;--> statement-breakpoint
ALTER TABLE `tests` ADD `badge_public` integer DEFAULT false NOT NULL;