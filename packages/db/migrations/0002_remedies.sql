CREATE TABLE `remedy_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`test_id` integer NOT NULL,
	`cluster` text NOT NULL,
	`revision` integer NOT NULL,
	`agent_id` text NOT NULL,
	`node` text NOT NULL,
	`kind` text NOT NULL,
	`trigger_run_id` text NOT NULL,
	`failures` integer NOT NULL,
	`attempt` integer NOT NULL,
	`status` text NOT NULL,
	`message` text,
	`details` text NOT NULL,
	`started_at` integer NOT NULL,
	`deadline_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `remedy_runs_test_time_idx` ON `remedy_runs` (`test_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `remedy_runs_status_deadline_idx` ON `remedy_runs` (`status`,`deadline_at`);--> statement-breakpoint
ALTER TABLE `tests` ADD `remedy_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `remedy_last_at` integer;