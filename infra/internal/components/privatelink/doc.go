// Package privatelink is the one reusable Private Link component: a private
// endpoint in the endpoints subnet, the service's privatelink.* private DNS
// zone, the zone's link to the VNet and the endpoint's DNS zone group, so the
// service's public host name resolves to the private address inside the VNet.
//
// Services lists the group id and zone of every service Sluice reaches
// privately.
package privatelink
