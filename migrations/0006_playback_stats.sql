CREATE TABLE `playback_country_daily` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`country` text NOT NULL,
	`views` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `video_id`, `country`)
);
--> statement-breakpoint
CREATE INDEX `playback_country_daily_day` ON `playback_country_daily` (`day`);--> statement-breakpoint
CREATE TABLE `playback_daily` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`views` integer DEFAULT 0 NOT NULL,
	`watch_ms` integer DEFAULT 0 NOT NULL,
	`rebuffer_count` integer DEFAULT 0 NOT NULL,
	`rebuffer_ms` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `video_id`)
);
--> statement-breakpoint
CREATE INDEX `playback_daily_day` ON `playback_daily` (`day`);--> statement-breakpoint
CREATE TABLE `playback_sessions` (
	`video_id` text NOT NULL,
	`session_id` text NOT NULL,
	`country` text NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`started` integer DEFAULT false NOT NULL,
	`ended` integer DEFAULT false NOT NULL,
	`errored` integer DEFAULT false NOT NULL,
	`startup_ms` integer,
	`watched_ms` integer DEFAULT 0 NOT NULL,
	`rebuffer_ms` integer DEFAULT 0 NOT NULL,
	`rebuffer_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`video_id`, `session_id`)
);
--> statement-breakpoint
CREATE INDEX `playback_sessions_updated` ON `playback_sessions` (`updated_at`);--> statement-breakpoint
CREATE TABLE `playback_startup_daily` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`country` text NOT NULL,
	`bucket` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `video_id`, `country`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `playback_startup_daily_day` ON `playback_startup_daily` (`day`);--> statement-breakpoint
CREATE TABLE `playback_tier_daily` (
	`day` text NOT NULL,
	`video_id` text NOT NULL,
	`tier` text NOT NULL,
	`watch_ms` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `video_id`, `tier`)
);
--> statement-breakpoint
CREATE INDEX `playback_tier_daily_day` ON `playback_tier_daily` (`day`);