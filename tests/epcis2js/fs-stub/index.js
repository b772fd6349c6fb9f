// Stand-in for the npm placeholder package fs@0.0.1-security, which
// epcis2.js lists as a dependency. It simply re-exports Node's built-in fs.
module.exports = require('node:fs');
