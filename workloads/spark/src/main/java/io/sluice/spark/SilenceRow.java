package io.sluice.spark;

import java.io.Serializable;
import java.sql.Timestamp;

/** One row of silent_devices: a device that fell silent, or reported again. */
public class SilenceRow implements Serializable {
  private String site;
  private String device;
  private String kind;
  private boolean silent;
  private Timestamp lastSeen;
  private Timestamp changedAt;
  private Timestamp updatedAt;

  public String getSite() { return site; }
  public void setSite(String v) { site = v; }
  public String getDevice() { return device; }
  public void setDevice(String v) { device = v; }
  public String getKind() { return kind; }
  public void setKind(String v) { kind = v; }
  public boolean isSilent() { return silent; }
  public void setSilent(boolean v) { silent = v; }
  public Timestamp getLastSeen() { return lastSeen; }
  public void setLastSeen(Timestamp v) { lastSeen = v; }
  public Timestamp getChangedAt() { return changedAt; }
  public void setChangedAt(Timestamp v) { changedAt = v; }
  public Timestamp getUpdatedAt() { return updatedAt; }
  public void setUpdatedAt(Timestamp v) { updatedAt = v; }
}
