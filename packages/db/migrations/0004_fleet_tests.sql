CREATE TABLE `fleet_tests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`raw` text NOT NULL,
	`clusters` text NOT NULL,
	`quorum_count` integer,
	`quorum_share` real,
	`revision` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fleet_tests_identity_uq` ON `fleet_tests` (`namespace`,`name`);--> statement-breakpoint
ALTER TABLE `clusters` ADD `labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `fleet_test_id` integer;