ALTER TABLE `videos` ADD `playback_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `videos` ADD `received_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `videos` ADD `run` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `videos_created_id` ON `videos` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `videos_owner_status` ON `videos` (`owner_id`,`status`);--> statement-breakpoint
-- Runs started before this migration were numbered by attempts; carry them over so no run id is reused.
UPDATE `videos` SET `run` = `attempts`;
