package io.sluice.spark;

import java.math.BigDecimal;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.sql.streaming.GroupState;

/**
 * Aggregates one site, kind, unit and minute (the group key, see {@link #key})
 * by event time, and emits the minute's aggregate whenever it changed. A
 * minute's state goes once the watermark passes its end; events behind the
 * watermark never reach the group (Spark drops them), so a minute that
 * was emitted for the last time never changes again.
 *
 * <p>The aggregate is exact and independent of arrival order: each event id
 * counts once, and the sum is kept as an exact decimal and rounded to a
 * double only when emitted. A replay from the checkpoint recomputes the
 * same rows, which the table overwrites.
 */
public final class MinuteAggregator implements FlatMapGroupsWithStateFunction<String, Reading, MinuteState, MinuteRow> {
  /** The group key of a reading: site, kind, unit and minute (epoch ms). */
  public static String key(Reading r) {
    long minute = Math.floorDiv(r.getAt().getTime(), 60_000L) * 60_000L;
    return r.getSite() + "\u0000" + r.getKind() + "\u0000" + r.getUnit() + "\u0000" + minute;
  }

  @Override
  public Iterator<MinuteRow> call(String key, Iterator<Reading> readings, GroupState<MinuteState> state) {
    String[] parts = key.split("\u0000", -1);
    long minute = Long.parseLong(parts[3]);
    if (state.hasTimedOut()) {
      state.remove();
      return List.<MinuteRow>of().iterator();
    }
    MinuteState s = state.exists() ? state.get() : new MinuteState();
    Set<String> seen = new HashSet<>(s.getIds());
    BigDecimal sum = new BigDecimal(s.getSum());
    boolean changed = false;
    while (readings.hasNext()) {
      Reading r = readings.next();
      if (!seen.add(r.getId())) {
        continue;
      }
      if (seen.size() == 1) {
        s.setMin(r.getValue());
        s.setMax(r.getValue());
      } else {
        s.setMin(Math.min(s.getMin(), r.getValue()));
        s.setMax(Math.max(s.getMax(), r.getValue()));
      }
      sum = sum.add(new BigDecimal(r.getValue()));
      changed = true;
    }
    if (!changed) {
      return List.<MinuteRow>of().iterator();
    }
    s.setIds(new ArrayList<>(seen));
    s.setSum(sum.toString());
    state.update(s);
    // The minute's state is kept until the watermark passes its end.
    state.setTimeoutTimestamp(Math.max(minute + 60_000L, state.getCurrentWatermarkMs() + 1));

    MinuteRow row = new MinuteRow();
    row.setSite(parts[0]);
    row.setKind(parts[1]);
    row.setUnit(parts[2]);
    row.setMinute(new Timestamp(minute));
    row.setDay(Date.valueOf(Instant.ofEpochMilli(minute).atOffset(ZoneOffset.UTC).toLocalDate()));
    row.setEvents(seen.size());
    row.setMinValue(s.getMin());
    row.setMaxValue(s.getMax());
    double total = sum.doubleValue();
    row.setSumValue(total);
    row.setMeanValue(total / seen.size());
    row.setUpdatedAt(new Timestamp(System.currentTimeMillis()));
    return List.of(row).iterator();
  }
}
