ALTER TABLE `agents` ADD `spool_depth` integer;--> statement-breakpoint
ALTER TABLE `agents` ADD `results_dropped` integer;