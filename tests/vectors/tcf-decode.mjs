// What the IAB's @iabtechlabtcf/core decodes from a TC string, in the terms of the shared vectors
// (data/tcf-vectors.json): the node tests and the browser tests compare against the same fields.
import { TCString } from '@iabtechlabtcf/core';

const ids = (vector) => {
  const out = [];
  vector.forEach((on, id) => {
    if (on) out.push(id);
  });
  return out;
};

/** What the IAB's decoder reads from a TC string, in the vectors' terms. */
export function decoded(tcString) {
  const m = TCString.decode(tcString);
  const restrictions = [];
  for (const r of m.publisherRestrictions.getRestrictions()) {
    restrictions.push({ purpose: r.purposeId, type: r.restrictionType, vendors: m.publisherRestrictions.getVendors(r) });
  }
  restrictions.sort((a, b) => a.purpose - b.purpose);
  return {
    cmpId: m.cmpId, cmpVersion: m.cmpVersion, vendorListVersion: m.vendorListVersion, policyVersion: m.policyVersion,
    consentLanguage: m.consentLanguage, publisherCountryCode: m.publisherCountryCode,
    created: m.created.getTime(), lastUpdated: m.lastUpdated.getTime(), isServiceSpecific: m.isServiceSpecific,
    specialFeatureOptins: ids(m.specialFeatureOptins), purposeConsents: ids(m.purposeConsents),
    purposeLegitimateInterests: ids(m.purposeLegitimateInterests), vendorConsents: ids(m.vendorConsents),
    vendorLegitimateInterests: ids(m.vendorLegitimateInterests), vendorsDisclosed: ids(m.vendorsDisclosed),
    publisherConsents: ids(m.publisherConsents), publisherLegitimateInterests: ids(m.publisherLegitimateInterests),
    publisherRestrictions: restrictions,
  };
}
