CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster` text NOT NULL,
	`node` text NOT NULL,
	`pod` text,
	`pod_namespace` text,
	`version` text NOT NULL,
	`capabilities` text NOT NULL,
	`heartbeat_url` text,
	`registered_at` integer NOT NULL,
	`last_poll_at` integer,
	`state` text NOT NULL,
	`assignment_version` integer NOT NULL,
	`assignment_hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_cluster_node_uq` ON `agents` (`cluster`,`node`);--> statement-breakpoint
CREATE INDEX `agents_state_poll_idx` ON `agents` (`state`,`last_poll_at`);--> statement-breakpoint
CREATE TABLE `assignments` (
	`test_id` integer NOT NULL,
	`agent_id` text NOT NULL,
	`cluster` text NOT NULL,
	`assigned_at` integer NOT NULL,
	PRIMARY KEY(`test_id`, `agent_id`)
);
--> statement-breakpoint
CREATE INDEX `assignments_agent_idx` ON `assignments` (`agent_id`);--> statement-breakpoint
CREATE TABLE `clusters` (
	`name` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`last_result_at` integer
);
--> statement-breakpoint
CREATE TABLE `latest` (
	`test_id` integer NOT NULL,
	`agent_id` text NOT NULL,
	`cluster` text NOT NULL,
	`run_id` text NOT NULL,
	`status` text NOT NULL,
	`marks` integer NOT NULL,
	`max_marks` integer NOT NULL,
	`pass_ratio` real NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`duration_ms` real NOT NULL,
	`message` text,
	`consecutive_failures` integer NOT NULL,
	`last_failed_run_id` text,
	`failing_since` integer,
	PRIMARY KEY(`test_id`, `agent_id`)
);
--> statement-breakpoint
CREATE INDEX `latest_agent_idx` ON `latest` (`agent_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`test_id` integer NOT NULL,
	`agent_id` text NOT NULL,
	`cluster` text NOT NULL,
	`revision` integer,
	`status` text NOT NULL,
	`marks` integer NOT NULL,
	`max_marks` integer NOT NULL,
	`pass_ratio` real NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`duration_ms` real NOT NULL,
	`details` text NOT NULL,
	`gauges` text NOT NULL,
	`trigger` text,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_test_time_idx` ON `runs` (`test_id`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_agent_time_idx` ON `runs` (`agent_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `runs_received_idx` ON `runs` (`received_at`);--> statement-breakpoint
CREATE TABLE `tests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cluster` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`api_version` text NOT NULL,
	`spec` text NOT NULL,
	`raw` text NOT NULL,
	`spec_hash` text NOT NULL,
	`generation` integer,
	`revision` integer NOT NULL,
	`plugin` text NOT NULL,
	`node_selector` text NOT NULL,
	`display_name` text,
	`importance` text,
	`labels` text NOT NULL,
	`quorum_count` integer,
	`quorum_share` real,
	`pinned_agent_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	`state` text NOT NULL,
	`passing_agents` integer NOT NULL,
	`failing_agents` integer NOT NULL,
	`assigned_agents` integer NOT NULL,
	`last_run_at` integer,
	`failing_since` integer,
	`last_failure_message` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tests_identity_uq` ON `tests` (`cluster`,`namespace`,`name`);--> statement-breakpoint
CREATE INDEX `tests_live_state_idx` ON `tests` (`state`,`cluster`) WHERE "tests"."deleted_at" IS NULL;--> statement-breakpoint
CREATE TABLE `tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`role` text NOT NULL,
	`cluster` text,
	`name` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_hash_unique` ON `tokens` (`hash`);--> statement-breakpoint
CREATE INDEX `tokens_cluster_idx` ON `tokens` (`cluster`);