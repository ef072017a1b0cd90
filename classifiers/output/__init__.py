"""What the commands write and print: console tables (`console`), result files (`results`), the leaderboard file
(`leaderboard`), timeline plots (`plot`) and contact sheets (`sheet`). Nothing here computes a result."""
