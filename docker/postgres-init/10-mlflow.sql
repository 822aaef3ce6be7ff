-- MLflow's tracking store lives in its own database on the same server. The postgres image runs
-- this once, when it initialises an empty data volume, as POSTGRES_USER (who then owns it).
CREATE DATABASE mlflow;
