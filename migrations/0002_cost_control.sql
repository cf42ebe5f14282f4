CREATE TABLE `budget_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`admin_id` text NOT NULL,
	`before` text NOT NULL,
	`after` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `cost_alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`day` text NOT NULL,
	`kind` text NOT NULL,
	`message` text NOT NULL,
	`usd` real NOT NULL,
	`previous_usd` real,
	`delivered` integer DEFAULT false NOT NULL,
	`delivery_attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cost_alerts_day_kind` ON `cost_alerts` (`day`,`kind`);--> statement-breakpoint
CREATE TABLE `cost_daily` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`usd` real NOT NULL,
	`breakdown` text NOT NULL,
	`rolled_up_at` integer NOT NULL,
	PRIMARY KEY(`day`, `video_id`)
);
--> statement-breakpoint
CREATE TABLE `usage` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`kind` text NOT NULL,
	`quantity` real NOT NULL,
	PRIMARY KEY(`day`, `video_id`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `usage_events` (
	`key` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `videos` ADD `output_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `videos` ADD `source_deleted_at` integer;