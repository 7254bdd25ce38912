-- The function as migration 2026-12-06-000005 made it.
CREATE OR REPLACE FUNCTION chat_search_config(language TEXT) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(language)
        WHEN 'ar' THEN 'arabic' WHEN 'arabic' THEN 'arabic'
        WHEN 'ca' THEN 'catalan' WHEN 'catalan' THEN 'catalan'
        WHEN 'da' THEN 'danish' WHEN 'danish' THEN 'danish'
        WHEN 'nl' THEN 'dutch' WHEN 'dutch' THEN 'dutch'
        WHEN 'en' THEN 'english' WHEN 'english' THEN 'english'
        WHEN 'fi' THEN 'finnish' WHEN 'finnish' THEN 'finnish'
        WHEN 'fr' THEN 'french' WHEN 'french' THEN 'french'
        WHEN 'de' THEN 'german' WHEN 'german' THEN 'german'
        WHEN 'el' THEN 'greek' WHEN 'greek' THEN 'greek'
        WHEN 'hu' THEN 'hungarian' WHEN 'hungarian' THEN 'hungarian'
        WHEN 'id' THEN 'indonesian' WHEN 'indonesian' THEN 'indonesian'
        WHEN 'ga' THEN 'irish' WHEN 'irish' THEN 'irish'
        WHEN 'it' THEN 'italian' WHEN 'italian' THEN 'italian'
        WHEN 'lt' THEN 'lithuanian' WHEN 'lithuanian' THEN 'lithuanian'
        WHEN 'no' THEN 'norwegian' WHEN 'nb' THEN 'norwegian' WHEN 'norwegian' THEN 'norwegian'
        WHEN 'pt' THEN 'portuguese' WHEN 'portuguese' THEN 'portuguese'
        WHEN 'ro' THEN 'romanian' WHEN 'romanian' THEN 'romanian'
        WHEN 'ru' THEN 'russian' WHEN 'russian' THEN 'russian'
        WHEN 'es' THEN 'spanish' WHEN 'spanish' THEN 'spanish'
        WHEN 'sv' THEN 'swedish' WHEN 'swedish' THEN 'swedish'
        WHEN 'tr' THEN 'turkish' WHEN 'turkish' THEN 'turkish'
        WHEN 'simple' THEN 'simple'
        ELSE NULL
    END::regconfig
$$;
