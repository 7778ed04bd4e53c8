CREATE TABLE applications (
	id VARCHAR(36) NOT NULL, 
	idempotency_key VARCHAR(64), 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	region VARCHAR(20), 
	payload JSON NOT NULL, 
	CONSTRAINT pk_applications PRIMARY KEY (id), 
	CONSTRAINT uq_applications_idempotency_key UNIQUE (idempotency_key)
);
CREATE TABLE faq_entries (
	id VARCHAR(120) NOT NULL, 
	item_code VARCHAR(80), 
	topic VARCHAR(20) NOT NULL, 
	question TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	sources JSON NOT NULL, 
	inferred BOOLEAN NOT NULL, 
	region VARCHAR(40), 
	overrides VARCHAR(120), 
	retired BOOLEAN NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_faq_entries PRIMARY KEY (id)
);
CREATE TABLE faq_entry_flags (
	entry_id VARCHAR(120) NOT NULL, 
	retired BOOLEAN NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_faq_entry_flags PRIMARY KEY (entry_id)
);
CREATE TABLE faq_paraphrases (
	id SERIAL NOT NULL, 
	entry_id VARCHAR(120) NOT NULL, 
	text TEXT NOT NULL, 
	removed BOOLEAN NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_faq_paraphrases PRIMARY KEY (id)
);
CREATE INDEX ix_faq_paraphrases_entry_id ON faq_paraphrases (entry_id);
CREATE TABLE faq_query_log (
	id SERIAL NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	q TEXT NOT NULL, 
	region VARCHAR(40), 
	top_id VARCHAR(120), 
	score FLOAT, 
	answered BOOLEAN NOT NULL, 
	reason VARCHAR(200) NOT NULL, 
	latency_ms FLOAT NOT NULL, 
	CONSTRAINT pk_faq_query_log PRIMARY KEY (id)
);
CREATE INDEX ix_faq_query_log_answered ON faq_query_log (answered);
CREATE INDEX ix_faq_query_log_created_at ON faq_query_log (created_at);
