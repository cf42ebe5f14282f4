CREATE TABLE `spend_running` (
	`month` text PRIMARY KEY NOT NULL,
	`usd` real DEFAULT 0 NOT NULL
);
--> statement-breakpoint
-- Start from what the ledger already holds, so a deployment in mid-month does not reset the cap.
INSERT INTO `spend_running` (`month`, `usd`) SELECT substr(`day`, 1, 7), sum(`usd`) FROM `cost_daily` GROUP BY substr(`day`, 1, 7);
