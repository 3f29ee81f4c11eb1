ALTER TABLE `agents` ADD `pod_labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `match_test_namespaces` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `match_test_labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `pod_label_selector` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `tests` ADD `agents_lacking_plugin` integer DEFAULT 0 NOT NULL;