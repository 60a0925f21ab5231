"""Reports: period statistics, standard reports, the report builder, exports and charts."""
