-- chat_search_config, written so that PostgreSQL inlines it into the statements that call
-- it. It answered `CASE … END::regconfig`: a cast of text to regconfig, which looks the name
-- up at run time and is therefore not immutable, so the planner refused to inline the
-- function and every send ran it as a SQL function of its own, parsed and planned on each
-- call (~15 % of a send's CPU in PostgreSQL). Each branch is now a regconfig constant,
-- resolved once when this migration runs; the function answers the same for every input.
CREATE OR REPLACE FUNCTION chat_search_config(language TEXT) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(language)
        WHEN 'ar' THEN 'arabic'::regconfig WHEN 'arabic' THEN 'arabic'::regconfig
        WHEN 'ca' THEN 'catalan'::regconfig WHEN 'catalan' THEN 'catalan'::regconfig
        WHEN 'da' THEN 'danish'::regconfig WHEN 'danish' THEN 'danish'::regconfig
        WHEN 'nl' THEN 'dutch'::regconfig WHEN 'dutch' THEN 'dutch'::regconfig
        WHEN 'en' THEN 'english'::regconfig WHEN 'english' THEN 'english'::regconfig
        WHEN 'fi' THEN 'finnish'::regconfig WHEN 'finnish' THEN 'finnish'::regconfig
        WHEN 'fr' THEN 'french'::regconfig WHEN 'french' THEN 'french'::regconfig
        WHEN 'de' THEN 'german'::regconfig WHEN 'german' THEN 'german'::regconfig
        WHEN 'el' THEN 'greek'::regconfig WHEN 'greek' THEN 'greek'::regconfig
        WHEN 'hu' THEN 'hungarian'::regconfig WHEN 'hungarian' THEN 'hungarian'::regconfig
        WHEN 'id' THEN 'indonesian'::regconfig WHEN 'indonesian' THEN 'indonesian'::regconfig
        WHEN 'ga' THEN 'irish'::regconfig WHEN 'irish' THEN 'irish'::regconfig
        WHEN 'it' THEN 'italian'::regconfig WHEN 'italian' THEN 'italian'::regconfig
        WHEN 'lt' THEN 'lithuanian'::regconfig WHEN 'lithuanian' THEN 'lithuanian'::regconfig
        WHEN 'no' THEN 'norwegian'::regconfig WHEN 'nb' THEN 'norwegian'::regconfig WHEN 'norwegian' THEN 'norwegian'::regconfig
        WHEN 'pt' THEN 'portuguese'::regconfig WHEN 'portuguese' THEN 'portuguese'::regconfig
        WHEN 'ro' THEN 'romanian'::regconfig WHEN 'romanian' THEN 'romanian'::regconfig
        WHEN 'ru' THEN 'russian'::regconfig WHEN 'russian' THEN 'russian'::regconfig
        WHEN 'es' THEN 'spanish'::regconfig WHEN 'spanish' THEN 'spanish'::regconfig
        WHEN 'sv' THEN 'swedish'::regconfig WHEN 'swedish' THEN 'swedish'::regconfig
        WHEN 'tr' THEN 'turkish'::regconfig WHEN 'turkish' THEN 'turkish'::regconfig
        WHEN 'simple' THEN 'simple'::regconfig
        ELSE NULL
    END
$$;
