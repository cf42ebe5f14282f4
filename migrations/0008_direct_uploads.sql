CREATE TABLE `direct_uploads` (
	`video_id` text PRIMARY KEY NOT NULL,
	`creator_id` text NOT NULL,
	`max_bytes` integer NOT NULL,
	`max_duration_sec` real,
	`title` text,
	`visibility` text,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`used_at` integer
);
