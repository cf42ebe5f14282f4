CREATE TABLE `videos` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`title` text NOT NULL,
	`filename` text NOT NULL,
	`filetype` text NOT NULL,
	`visibility` text DEFAULT 'public' NOT NULL,
	`status` text NOT NULL,
	`message` text DEFAULT '' NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`playable` integer DEFAULT false NOT NULL,
	`duration_sec` real,
	`renditions` text DEFAULT '[]' NOT NULL,
	`source_bytes` integer,
	`source_sha256` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_expires_at` integer,
	`priority` integer DEFAULT 0 NOT NULL,
	`upload_expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`ready_at` integer
);
--> statement-breakpoint
CREATE INDEX `videos_owner_created` ON `videos` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `videos_status` ON `videos` (`status`,`upload_expires_at`);