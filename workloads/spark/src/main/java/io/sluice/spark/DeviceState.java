package io.sluice.spark;

import java.io.Serializable;

/** What the silence detector keeps per device. */
public class DeviceState implements Serializable {
  private String site;
  private String kind;
  private long lastSeenMs;
  private boolean silent;

  public String getSite() { return site; }
  public void setSite(String v) { site = v; }
  public String getKind() { return kind; }
  public void setKind(String v) { kind = v; }
  public long getLastSeenMs() { return lastSeenMs; }
  public void setLastSeenMs(long v) { lastSeenMs = v; }
  public boolean isSilent() { return silent; }
  public void setSilent(boolean v) { silent = v; }
}
