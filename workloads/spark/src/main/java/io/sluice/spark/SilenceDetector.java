package io.sluice.spark;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.sql.streaming.GroupState;

/**
 * Follows one device (the group key) by event time: once the watermark
 * passes its last reading plus the silence threshold it emits the device
 * as silent; its next reading emits it as reporting again. Silence is
 * judged by event time, so it needs the stream to go on: when every
 * device stops, the watermark stops too. A device silent for a week is
 * forgotten (a later reading starts it afresh).
 */
public final class SilenceDetector implements FlatMapGroupsWithStateFunction<String, Reading, DeviceState, SilenceRow> {
  private static final long FORGET_MS = Duration.ofDays(7).toMillis();
  private final long silenceMs;

  public SilenceDetector(Duration silenceAfter) {
    this.silenceMs = silenceAfter.toMillis();
  }

  @Override
  public Iterator<SilenceRow> call(String device, Iterator<Reading> readings, GroupState<DeviceState> state) {
    long now = System.currentTimeMillis();
    if (state.hasTimedOut()) {
      DeviceState s = state.get();
      if (s.isSilent()) {
        state.remove();
        return List.<SilenceRow>of().iterator();
      }
      s.setSilent(true);
      state.update(s);
      state.setTimeoutTimestamp(Math.max(s.getLastSeenMs() + FORGET_MS, state.getCurrentWatermarkMs() + 1));
      return List.of(row(device, s, s.getLastSeenMs() + silenceMs, now)).iterator();
    }
    DeviceState s = state.exists() ? state.get() : null;
    boolean wasSilent = s != null && s.isSilent();
    Reading newest = null;
    while (readings.hasNext()) {
      Reading r = readings.next();
      if (newest == null || r.getAt().getTime() > newest.getAt().getTime()) {
        newest = r;
      }
    }
    if (newest == null) {
      return List.<SilenceRow>of().iterator();
    }
    if (s == null) {
      s = new DeviceState();
    }
    if (newest.getAt().getTime() >= s.getLastSeenMs()) {
      s.setLastSeenMs(newest.getAt().getTime());
      s.setSite(newest.getSite());
      s.setKind(newest.getKind());
    }
    s.setSilent(false);
    state.update(s);
    state.setTimeoutTimestamp(Math.max(s.getLastSeenMs() + silenceMs, state.getCurrentWatermarkMs() + 1));
    if (wasSilent) {
      return List.of(row(device, s, newest.getAt().getTime(), now)).iterator();
    }
    return List.<SilenceRow>of().iterator();
  }

  private static SilenceRow row(String device, DeviceState s, long changedAt, long now) {
    SilenceRow r = new SilenceRow();
    r.setSite(s.getSite());
    r.setDevice(device);
    r.setKind(s.getKind());
    r.setSilent(s.isSilent());
    r.setLastSeen(new Timestamp(s.getLastSeenMs()));
    r.setChangedAt(new Timestamp(changedAt));
    r.setUpdatedAt(new Timestamp(now));
    return r;
  }
}
