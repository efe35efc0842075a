-- The reporting views convert hours to each site's local time: a time zone
-- PostgreSQL does not know would make them fail, so it is refused on write.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION sites_check_timezone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE NEW.timezone;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sites_check_timezone BEFORE INSERT OR UPDATE OF timezone ON sites
    FOR EACH ROW EXECUTE FUNCTION sites_check_timezone();

-- +goose Down
DROP TRIGGER sites_check_timezone ON sites;
DROP FUNCTION sites_check_timezone();
