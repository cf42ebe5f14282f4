ALTER TABLE `videos` ADD `next_attempt_at` integer;--> statement-breakpoint
ALTER TABLE `videos` ADD `last_error` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `uploaded_at` integer;--> statement-breakpoint
ALTER TABLE `videos` ADD `playable_at` integer;--> statement-breakpoint
ALTER TABLE `videos` ADD `encode_seconds` real;--> statement-breakpoint
CREATE INDEX `videos_queue` ON `videos` (`status`,`priority`,`created_at`);