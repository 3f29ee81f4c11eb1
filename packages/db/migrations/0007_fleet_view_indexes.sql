ALTER TABLE `tests` ADD `allowance_ms` integer;--> statement-breakpoint
CREATE INDEX `tests_rejected_idx` ON `tests` (`cluster`) WHERE "tests"."rejected_reason" IS NOT NULL AND "tests"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX `tests_maintenance_spec_idx` ON `tests` (`cluster`) WHERE "tests"."maintenance_spec" IS NOT NULL AND "tests"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX `tests_updated_idx` ON `tests` (`updated_at`,`deleted_at`,`cluster`);--> statement-breakpoint
CREATE INDEX `agents_cluster_state_idx` ON `agents` (`cluster`,`state`,`registered_at`);